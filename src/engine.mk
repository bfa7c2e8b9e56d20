# Engine: planner, executor and layer kernels (see ks_ops.h).
src_libkerascope_a_SOURCES += \
	src/ks_ops.c src/ks_ops.h \
	src/ks_layers_core.c src/ks_layers_conv.c src/ks_layers_pool.c \
	src/ks_layers_shape.c src/ks_layers_norm.c src/ks_layers_rnn.c \
	src/ks_layers_merge.c src/ks_layers_act.c src/ks_layers_attn.c \
	src/ks_spatial.c src/ks_spatial.h src/ks_winograd.c src/ks_winograd.h \
	src/ks_vec.h
src_libkerascope_a_SOURCES += \
	src/ks_act.c src/ks_act.h \
	src/ks_plan.c src/ks_plan.h \
	src/ks_cost.c src/ks_cost.h \
	src/ks_npy.c src/ks_npy.h \
	src/ks_input.c src/ks_input.h \
	src/ks_eval.c src/ks_eval.h \
	src/ks_layers_tfop.c src/ks_layers_text.c \
	src/ks_blas.c src/ks_blas.h
