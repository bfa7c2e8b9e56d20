# Sessions (helper session): digests, the session file format, replay.
src_libkerascope_a_SOURCES += \
	src/ks_digest.c src/ks_digest.h \
	src/ks_session.c src/ks_session.h
src_libkerascope_a_SOURCES += \
	src/ks_replay.c src/ks_replay.h
