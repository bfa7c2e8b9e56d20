# fragment: Keras 3 / zip loading (see Makefile.am)
src_libkerascope_a_SOURCES += \
	src/ks_keras3.c src/ks_keras3.h
