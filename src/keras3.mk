# fragment: Keras 3 / zip loading (see Makefile.am)
src_libkerascope_a_SOURCES += \
	src/ks_keras3.c src/ks_keras3.h
src_libkerascope_a_SOURCES += \
	src/ks_zip.c src/ks_zip.h \
	src/ks_varnames.c src/ks_varnames.h
