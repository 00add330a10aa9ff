#include "config.h"
/* placeholder: being written */
typedef int thr_placeholder_webseed;
