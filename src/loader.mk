# Loader: HDF5 access, model core, legacy .h5 loaders, config -> graph.
src_libkerascope_a_SOURCES += \
	src/ks_h5.c src/ks_h5.h \
	src/ks_graph.c src/ks_graph.h \
	src/ks_legacy.c src/ks_legacy.h \
	src/ks_arch.c src/ks_arch.h \
	src/ks_guess.c src/ks_guess.h \
	src/ks_loadorder.c src/ks_loadorder.h \
	src/ks_model.c \
	src/ks_formats.c src/ks_formats.h
