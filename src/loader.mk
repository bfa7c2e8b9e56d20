# Loader: HDF5 access, model core, legacy .h5 loaders, config -> graph.
src_libkerascope_a_SOURCES += \
	src/ks_h5.c src/ks_h5.h
