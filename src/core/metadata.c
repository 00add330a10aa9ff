/* placeholder, being written */
#include "config.h"
typedef int metadata_placeholder;
