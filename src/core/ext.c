/* placeholder, being written */
#include "config.h"
typedef int ext_placeholder;
