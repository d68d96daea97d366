#include "files.pb-c.h"
#include <stdio.h>
int main(void){printf("%zu\n", sizeof(Fd));return 0;}