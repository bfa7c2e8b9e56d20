# Front end: command line dispatch, and the ncurses + readline inspector.
kerascope_SOURCES += ui/main.c ui/cli.h ui/cli_common.c ui/cli_common.h
kerascope_SOURCES += ui/cli_report.c ui/cli_report.h ui/cli_progress.c ui/cli_progress.h
kerascope_SOURCES += ui/cli_predict.c ui/cli_predict.h ui/cli_profile.c ui/cli_profile.h
kerascope_SOURCES += ui/cli_diff.c ui/cli_diff.h
kerascope_SOURCES += ui/cli_evaluate.c ui/cli_evaluate.h
kerascope_SOURCES += ui/cli_doctor.c ui/cli_doctor.h
# The interactive inspector (ui_tui.h is the entry point).
kerascope_SOURCES += ui/ui.h ui/ui_curses.h ui/ui_tui.c ui/ui_tui.h \
	ui/ui_display.c ui/ui_display.h ui/ui_input.c ui/ui_input.h \
	ui/ui_keys.c ui/ui_keys.h ui/ui_argv.c ui/ui_argv.h ui/ui_prompt.c ui/ui_prompt.h ui/ui_cmd.c ui/ui_list.c \
	ui/ui_view_layers.c ui/ui_view_detail.c ui/ui_view_tensor.c ui/ui_view_text.c \
	ui/ui_view_tree.c ui/ui_view_doctor.c ui/ui_diff.c
kerascope_SOURCES += ui/cli_replay.c ui/cli_replay.h
