# Core: status, small utilities shared by every module.
src_libkerascope_a_SOURCES += \
	src/ks_status.c src/ks_status.h \
	src/ks_util.c src/ks_util.h \
	src/ks_index.c src/ks_index.h \
	src/ks_esc.c src/ks_esc.h \
	src/ks_cfg.c src/ks_cfg.h \
	src/ks_model.h
