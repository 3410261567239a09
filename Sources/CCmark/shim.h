#ifndef LOUPE_CCMARK_SHIM_H
#define LOUPE_CCMARK_SHIM_H
#include <cmark.h>
#endif
