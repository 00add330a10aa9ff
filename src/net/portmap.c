/* placeholder, being written */
#include "config.h"
typedef int portmap_placeholder;
