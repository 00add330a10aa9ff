/* placeholder, being written */
#include "config.h"
typedef int magnet_placeholder;
