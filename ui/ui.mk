# Front end: command line dispatch, and the ncurses + readline inspector.
kerascope_SOURCES += ui/main.c ui/cli.h
