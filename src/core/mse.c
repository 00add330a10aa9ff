/* placeholder, being written */
#include "config.h"
typedef int mse_placeholder;
