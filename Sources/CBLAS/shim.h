#include <cblas.h>
/* OpenBLAS-specific entry points (declared in openblas_config.h, included by cblas.h on Debian):
   openblas_set_num_threads, openblas_get_config, openblas_get_corename. */
