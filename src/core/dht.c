/* placeholder, being written */
#include "config.h"
typedef int dht_placeholder;
