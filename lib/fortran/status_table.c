/* Not compiled: the build runs it through the C preprocessor to turn
 * PEL_STATUS_TABLE and the version macros of the C headers into Fortran
 * named constants (lib/fortran/pel_constants.inc), so the Fortran module and
 * the C library can never disagree on a status code. Each declaration starts
 * with the marker PEL_FORTRAN_LINE; the build splits the output there.
 * The mixed-case names on the left are not macros (cpp is case-sensitive,
 * Fortran is not), so only the values on the right expand. */
#include "pel/core.h"
#define PEL_FORTRAN_STATUS(name, value, text) \
    PEL_FORTRAN_LINE integer(c_int), parameter, public :: name = value
PEL_STATUS_TABLE(PEL_FORTRAN_STATUS)
PEL_FORTRAN_LINE integer(c_int), parameter, public :: Pel_Version_Major = PEL_VERSION_MAJOR
PEL_FORTRAN_LINE integer(c_int), parameter, public :: Pel_Version_Minor = PEL_VERSION_MINOR
PEL_FORTRAN_LINE integer(c_int), parameter, public :: Pel_Version_Patch = PEL_VERSION_PATCH
PEL_FORTRAN_LINE character(len=*), parameter, public :: Pel_Version_String = PEL_VERSION_STRING
