# Front end: command line dispatch, and the ncurses + readline inspector.
kerascope_SOURCES += ui/main.c ui/cli.h
kerascope_SOURCES += ui/cli_report.c ui/cli_report.h
kerascope_SOURCES += ui/cli_predict.c ui/cli_predict.h
