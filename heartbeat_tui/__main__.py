from heartbeat_tui.cli import main

raise SystemExit(main())
