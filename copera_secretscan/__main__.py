from copera_secretscan.entry import main

raise SystemExit(main())
