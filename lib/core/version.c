#include "persona/common.h"

PERSONA_API int32_t persona_version_number(void)
{
    return PERSONA_VERSION_NUMBER;
}

PERSONA_API const char *persona_version_string(void)
{
    return PERSONA_VERSION_STRING;
}

PERSONA_API const char *persona_build_features(void)
{
#ifdef PERSONA_HAVE_OPENMP
    return "openmp=on";
#else
    return "openmp=off";
#endif
}
