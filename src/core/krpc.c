/* placeholder, being written */
#include "config.h"
typedef int krpc_placeholder;
