/* placeholder, being written */
#include "config.h"
typedef int udptracker_placeholder;
