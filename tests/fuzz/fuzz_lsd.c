#include "config.h"
#include <stddef.h>
#include <stdint.h>
/* placeholder: being written */
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	(void)d;
	(void)n;
	return 0;
}
