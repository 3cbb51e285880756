/* SPDX-License-Identifier: MIT */
/* Placeholder: replaced by the real program. */
#include <stdio.h>

int main(void)
{
    puts("corral " CORRAL_VERSION);
    return 0;
}
