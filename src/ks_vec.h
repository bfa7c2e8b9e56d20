/* ks_vec: 8-float GCC vectors for the hand-vectorised kernel loops.
 *
 * The build targets plain x86-64 (SSE2) and -O2, where GCC does not
 * vectorise loops of unknown length; these helpers make 8-lane arithmetic
 * explicit. Functions marked KS_CLONES are compiled twice (AVX2 and
 * baseline) and the right one is picked when the program starts.
 */
#ifndef KS_VEC_H
#define KS_VEC_H

#include <string.h>

typedef float ks_v8 __attribute__((vector_size(32)));
typedef int ks_v8i __attribute__((vector_size(32)));

/* Lane-wise max (C has no ?: on vectors): the mask of a > b selects a. */
#define KS_MAX8(a, b) __extension__({ ks_v8 a_ = (a), b_ = (b); ks_v8i m_ = a_ > b_; \
	(ks_v8)(((ks_v8i)a_ & m_) | ((ks_v8i)b_ & ~m_)); })

/* Unaligned load/store. Macros, not functions: a function returning a
 * 32-byte vector would have a different ABI in the AVX2 clone. */
#define KS_LD8(p) __extension__({ ks_v8 v_; memcpy(&v_, (p), sizeof v_); v_; })
#define KS_ST8(p, x) do { ks_v8 w_ = (x); memcpy((p), &w_, sizeof w_); } while (0)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KS_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define KS_CLONES
#endif

#endif
