/* placeholder, being written */
#include "config.h"
typedef int resolve_placeholder;
