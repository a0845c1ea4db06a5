from reactdiff.cli import main

raise SystemExit(main())
