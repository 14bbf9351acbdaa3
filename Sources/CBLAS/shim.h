#include <cblas.h>
/* Headers only: OpenBLAS is loaded with dlopen on first use (MLVEngine's OpenBLAS.swift), not
   linked, so commands that never multiply a matrix do not pay for loading it and for the thread
   pool it starts, and the engine can set OPENBLAS_CORETYPE before the library picks its kernels.
   cblas.h also declares openblas_set_num_threads, openblas_get_config and openblas_get_corename. */
