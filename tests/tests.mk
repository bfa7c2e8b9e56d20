# Tests. Each cmocka program links only the core library (never curses/readline).
TEST_CPPFLAGS = $(AM_CPPFLAGS) $(CMOCKA_CFLAGS) -DKS_TEST_SRCDIR='"$(abs_top_srcdir)"'
TEST_LDADD = $(CORE_LIBS) $(CMOCKA_LIBS)
EXTRA_DIST += tests/ks_test.h

if HAVE_CMOCKA
check_PROGRAMS += tests/test_util
tests_test_util_SOURCES = tests/test_util.c
tests_test_util_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_util_LDADD = $(TEST_LDADD)
endif
TESTS += $(check_PROGRAMS)

# Report area (helper C): statistics, slices.
if HAVE_CMOCKA
check_PROGRAMS += tests/test_slice tests/test_stats tests/test_report tests/test_real_report
tests_test_real_report_SOURCES = tests/test_real_report.c
tests_test_real_report_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_real_report_LDADD = $(TEST_LDADD)
tests_test_report_SOURCES = tests/test_report.c
tests_test_report_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_report_LDADD = $(TEST_LDADD)
tests_test_stats_SOURCES = tests/test_stats.c
tests_test_stats_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_stats_LDADD = $(TEST_LDADD)
tests_test_slice_SOURCES = tests/test_slice.c
tests_test_slice_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_slice_LDADD = $(TEST_LDADD)
endif
# Golden transcripts of the report commands (shell; runs the built binary).
TESTS += tests/cli/golden.sh tests/cli/manlint.sh tests/cli/config-cli.sh
EXTRA_DIST += tests/cli/golden.sh tests/cli/manlint.sh tests/cli/config-cli.sh tests/expected

# Keras 3 / Keras 2.14 .keras and .weights.h5 loaders (helper L2).
EXTRA_DIST += tests/k3_build.h
if HAVE_CMOCKA
check_PROGRAMS += tests/test_keras3
tests_test_keras3_SOURCES = tests/test_keras3.c
tests_test_keras3_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_keras3_LDADD = $(TEST_LDADD)
endif

# Normalization, recurrent and attention kernels (helper E3).
if HAVE_CMOCKA
check_PROGRAMS += tests/test_layers_norm tests/test_layers_rnn tests/test_layers_attn
tests_test_layers_attn_SOURCES = tests/test_layers_attn.c
tests_test_layers_attn_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_layers_attn_LDADD = $(TEST_LDADD)
tests_test_layers_norm_SOURCES = tests/test_layers_norm.c
tests_test_layers_norm_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_layers_norm_LDADD = $(TEST_LDADD)
tests_test_layers_rnn_SOURCES = tests/test_layers_rnn.c
tests_test_layers_rnn_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_layers_rnn_LDADD = $(TEST_LDADD)
endif

# Conv/pool/shape kernels (helper E2).
EXTRA_DIST += tests/ks_optest.h
if HAVE_CMOCKA
check_PROGRAMS += tests/test_layers_conv
tests_test_layers_conv_SOURCES = tests/test_layers_conv.c
tests_test_layers_conv_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_layers_conv_LDADD = $(TEST_LDADD)
endif

# Hostile .keras archives (helper L2).
if HAVE_CMOCKA
check_PROGRAMS += tests/test_hostile_zip
tests_test_hostile_zip_SOURCES = tests/test_hostile_zip.c
tests_test_hostile_zip_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_hostile_zip_LDADD = $(TEST_LDADD)
endif

# Loader area (helper L1): HDF5 helpers, config->graph, hostile files.
EXTRA_DIST += tests/h5_build.h
if HAVE_CMOCKA
check_PROGRAMS += tests/test_h5
tests_test_h5_SOURCES = tests/test_h5.c
tests_test_h5_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_h5_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_graph
tests_test_graph_SOURCES = tests/test_graph.c
tests_test_graph_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_graph_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_hostile_h5
tests_test_hostile_h5_SOURCES = tests/test_hostile_h5.c
tests_test_hostile_h5_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_hostile_h5_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_real
tests_test_real_SOURCES = tests/test_real.c
tests_test_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_real_LDADD = $(TEST_LDADD)
endif
# end L1

if HAVE_CMOCKA
check_PROGRAMS += tests/test_conformance
tests_test_conformance_SOURCES = tests/test_conformance.c
tests_test_conformance_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_conformance_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_real_outputs
tests_test_real_outputs_SOURCES = tests/test_real_outputs.c
tests_test_real_outputs_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_real_outputs_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_act
tests_test_act_SOURCES = tests/test_act.c tests/engine_build.h
tests_test_act_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_act_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_plan
tests_test_plan_SOURCES = tests/test_plan.c tests/engine_build.h
tests_test_plan_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_plan_LDADD = $(TEST_LDADD)
check_PROGRAMS += tests/test_cost
tests_test_cost_SOURCES = tests/test_cost.c tests/engine_build.h
tests_test_cost_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_cost_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_layers_core
tests_test_layers_core_SOURCES = tests/test_layers_core.c tests/engine_build.h
tests_test_layers_core_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_layers_core_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_layers_merge
tests_test_layers_merge_SOURCES = tests/test_layers_merge.c tests/engine_build.h
tests_test_layers_merge_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_layers_merge_LDADD = $(TEST_LDADD)
endif
# Inspector screen tests: headless scripts through the real readline path
# (tests/ui/libtest.sh); tmux-test drives a real terminal (SKIP without tmux).
UI_TESTS = tests/ui/browse-test tests/ui/views-test tests/ui/doctor-test tests/ui/prompt-test tests/ui/predict-test \
	tests/ui/errors-test tests/ui/layout-test tests/ui/nested-test tests/ui/extra-test tests/ui/man-test \
	tests/ui/weights-test tests/ui/heat-test tests/ui/evaluate-test tests/ui/hostile-test \
	tests/ui/tmux-test tests/ui/diff-test tests/ui/diffmode-test
EXTRA_DIST += tests/ui/libtest.sh tests/ui/man-keys.sh $(UI_TESTS)
if HAVE_CMOCKA
TESTS += $(UI_TESTS)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_npy
tests_test_npy_SOURCES = tests/test_npy.c tests/engine_build.h
tests_test_npy_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_npy_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_input
tests_test_input_SOURCES = tests/test_input.c tests/engine_build.h
tests_test_input_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_input_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_layers_pool
tests_test_layers_pool_SOURCES = tests/test_layers_pool.c
tests_test_layers_pool_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_layers_pool_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_layers_shape
tests_test_layers_shape_SOURCES = tests/test_layers_shape.c
tests_test_layers_shape_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_layers_shape_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/ui/mkmodels
tests_ui_mkmodels_SOURCES = tests/ui/mkmodels.c tests/h5_build.h
tests_ui_mkmodels_CPPFLAGS = $(TEST_CPPFLAGS)
tests_ui_mkmodels_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_ui_keys
tests_test_ui_keys_SOURCES = tests/test_ui_keys.c ui/ui_keys.c ui/ui_argv.c
tests_test_ui_keys_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/ui $(NCURSES_CFLAGS)
tests_test_ui_keys_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_layers_tfop
tests_test_layers_tfop_SOURCES = tests/test_layers_tfop.c tests/engine_build.h
tests_test_layers_tfop_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_layers_tfop_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
TESTS += tests/predict-cli.sh
EXTRA_DIST += tests/predict-cli.sh
endif

# Where an architecture comes from (--config): JSON files, wrapped strings,
# model files, hostile inputs.
if HAVE_CMOCKA
check_PROGRAMS += tests/test_arch
tests_test_arch_SOURCES = tests/test_arch.c
tests_test_arch_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_arch_LDADD = $(TEST_LDADD)
endif
# Diff (helper diff): element-wise comparison.
if HAVE_CMOCKA
check_PROGRAMS += tests/test_cmp tests/test_diff_cases tests/test_diff
tests_test_diff_SOURCES = tests/test_diff.c
tests_test_diff_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_diff_LDADD = $(TEST_LDADD)
tests_test_diff_cases_SOURCES = tests/test_diff_cases.c
tests_test_diff_cases_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_diff_cases_LDADD = $(TEST_LDADD)
tests_test_cmp_SOURCES = tests/test_cmp.c
tests_test_cmp_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_cmp_LDADD = $(TEST_LDADD)
endif
# evaluate: accuracies, losses and Keras' "accuracy" resolution; labelled CSV
# and HDF5 dataset inputs (helper evaluate).
if HAVE_CMOCKA
check_PROGRAMS += tests/test_eval
tests_test_eval_SOURCES = tests/test_eval.c
tests_test_eval_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_eval_LDADD = $(TEST_LDADD)
endif
# evaluate from the shell: iris training accuracy, the README walk-through, errors.
TESTS += tests/cli/evaluate.sh
EXTRA_DIST += tests/cli/evaluate.sh
# The new-user niggles of issue 12 (dump integers, did-you-mean, predict output).
TESTS += tests/cli/newuser.sh
EXTRA_DIST += tests/cli/newuser.sh
# Hostile inputs (issue 13): the fuzzing campaign's reproducers, read in place
# from ../shared/fuzz-repro; LeakSanitizer suppressions for libhdf5's own leaks.
TESTS += tests/hostile/fuzz-repro.sh
EXTRA_DIST += tests/hostile/fuzz-repro.sh tests/lsan.supp
# A generated 60,000-layer chain must open and summarise.
if HAVE_CMOCKA
check_PROGRAMS += tests/test_scale
tests_test_scale_SOURCES = tests/test_scale.c
tests_test_scale_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_scale_LDADD = $(TEST_LDADD)
endif
# Sessions (helper session): digests, session files, replay.
if HAVE_CMOCKA
check_PROGRAMS += tests/test_session
tests_test_session_SOURCES = tests/test_session.c tests/engine_build.h tests/h5_build.h
tests_test_session_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_session_LDADD = $(TEST_LDADD)
endif
TESTS += tests/session-cli.sh
EXTRA_DIST += tests/session-cli.sh
TESTS += tests/session-keras.sh
EXTRA_DIST += tests/session-keras.sh tests/session_from_keras.py
UI_TESTS += tests/ui/record-test
# Whole-model statistics (kerascope stats).
if HAVE_CMOCKA
check_PROGRAMS += tests/test_modelstats
tests_test_modelstats_SOURCES = tests/test_modelstats.c
tests_test_modelstats_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_modelstats_LDADD = $(TEST_LDADD)
endif

# Keras' load_weights orders (--load-order), guessed classes.
if HAVE_CMOCKA
check_PROGRAMS += tests/test_loadorder tests/test_guess
tests_test_guess_SOURCES = tests/test_guess.c
tests_test_guess_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_guess_LDADD = $(TEST_LDADD)
tests_test_loadorder_SOURCES = tests/test_loadorder.c
tests_test_loadorder_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_loadorder_LDADD = $(TEST_LDADD)
endif
# tools/install-deps without root (fake sudo/dpkg-query; installs nothing).
TESTS += tests/cli/install-deps.sh
EXTRA_DIST += tests/cli/install-deps.sh tools/install-deps

# Doctor (helper doctor): every diagnosis case, the real models, each check.
if HAVE_CMOCKA
check_PROGRAMS += tests/test_doctor_cases
tests_test_doctor_cases_SOURCES = tests/test_doctor_cases.c
tests_test_doctor_cases_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_doctor_cases_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_doctor_real
tests_test_doctor_real_SOURCES = tests/test_doctor_real.c
tests_test_doctor_real_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_doctor_real_LDADD = $(TEST_LDADD)
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/test_doctor
tests_test_doctor_SOURCES = tests/test_doctor.c tests/engine_build.h tests/h5_build.h
tests_test_doctor_CPPFLAGS = $(TEST_CPPFLAGS)
tests_test_doctor_LDADD = $(TEST_LDADD)
endif
# The README's doctor walk-through, run and compared with the README's text.
TESTS += tests/cli/walkthrough.sh
EXTRA_DIST += tests/cli/walkthrough.sh
