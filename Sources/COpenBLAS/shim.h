#ifndef LOUPE_COPENBLAS_SHIM_H
#define LOUPE_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
