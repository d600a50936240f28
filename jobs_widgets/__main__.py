from jobs_widgets.cli import main

raise SystemExit(main())
