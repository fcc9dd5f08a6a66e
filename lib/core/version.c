/* Version queries. */
#include "config.h"

#include "pel/core.h"

const char *pel_version(void)
{
    return PEL_VERSION_STRING;
}

int pel_version_number(void)
{
    return PEL_VERSION_NUMBER;
}
