from copera_secretscan.cli import main

raise SystemExit(main())
