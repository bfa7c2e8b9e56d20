# Report: statistics, slices and the text/JSON renderings of summary, ls, dump, attrs.
src_libkerascope_a_SOURCES += \
	src/ks_stats.c src/ks_stats.h \
	src/ks_slice.c src/ks_slice.h \
	src/ks_report.c src/ks_report.h \
	src/ks_file.c src/ks_file.h \
	src/ks_modelstats.c src/ks_modelstats.h
# Comparison of two float arrays (diff, session, doctor).
src_libkerascope_a_SOURCES += src/ks_cmp.c src/ks_cmp.h
# Diff: two models side by side (pairing, weights, settings, outputs).
src_libkerascope_a_SOURCES += src/ks_diff.c src/ks_diff.h src/ks_diff_priv.h \
	src/ks_diff_config.c src/ks_diff_outputs.c src/ks_diff_report.c src/ks_diff_report.h
# Doctor: findings about why a reloaded model behaves differently.
src_libkerascope_a_SOURCES += \
	src/ks_doctor.c src/ks_doctor.h src/ks_doctor_int.h \
	src/ks_doctor_config.c src/ks_doctor_weights.c src/ks_doctor_pair.c \
	src/ks_lambda.c src/ks_lambda.h \
	src/ks_init.c src/ks_init.h
