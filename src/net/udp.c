/* placeholder, being written */
#include "config.h"
typedef int udp_placeholder;
