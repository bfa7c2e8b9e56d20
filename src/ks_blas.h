/* ks_blas: making sure OpenBLAS runs the kernels this CPU can run.
 *
 * OpenBLAS picks its GEMM kernels once, when the library is loaded, from the
 * CPU model it recognises. A library older than the CPU (Debian 12's 0.3.21
 * on recent Xeons, and many virtual machines that report a generic model)
 * falls back to "Prescott", its SSE3 kernels: five times slower than the
 * AVX-512 ones on the same core. The only cure OpenBLAS offers is the
 * OPENBLAS_CORETYPE variable, read at load time, so the program has to set it
 * and start again (ui/main.c does, for the commands that compute).
 *
 * The choice is made from the instruction sets the CPU reports, never from
 * its name, and only upward: a correctly detected core is never changed, and
 * a user's own OPENBLAS_CORETYPE is always respected.
 */
#ifndef KS_BLAS_H
#define KS_BLAS_H

/* The OPENBLAS_CORETYPE value that gives this CPU faster kernels than the
 * ones OpenBLAS chose ("SkylakeX" with AVX-512 F/CD/BW/DQ/VL, "Haswell" with
 * AVX2 + FMA), or NULL when OpenBLAS' choice is already as good or the
 * variable is set. */
const char *ks_blas_core_hint(void);

/* When ks_blas_core_hint() names better kernels: sets OPENBLAS_CORETYPE and
 * replaces the process with a fresh start of the same program and argv
 * (/proc/self/exe), so OpenBLAS loads again and picks them. Returns only
 * when there is nothing to gain or the restart failed; the caller then goes
 * on with the kernels it has. Call it first thing in main, before any other
 * work (open files and threads do not survive the restart). */
void ks_blas_restart_if_slower(char **argv);

/* OpenBLAS' name for the kernels in use ("Prescott", "Haswell", ...). */
const char *ks_blas_core(void);

#endif
