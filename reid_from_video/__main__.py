from reid_from_video.cli import main

raise SystemExit(main())
