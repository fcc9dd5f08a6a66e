/**
 * @file pel/stencil.h
 * @brief The stencil layer of pel (see shared DESIGN.md). Not yet populated.
 */
#ifndef PEL_STENCIL_H
#define PEL_STENCIL_H

#include <stddef.h>
#include "pel/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif
