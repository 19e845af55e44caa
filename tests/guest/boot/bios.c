/* bioscall(): the C side of realmode.S's thunk (the registers travel through a block below
 * 64 KiB that real-mode code can address). */
#include "bios.h"
#include "../lib/str.h"

extern struct bregs bios_regs;
extern u8 bios_vector;
void bioscall_thunk(void);

void bioscall(u8 vec, struct bregs *r)
{
	memcpy(&bios_regs, r, sizeof(*r));
	bios_vector = vec;
	bioscall_thunk();
	memcpy(r, &bios_regs, sizeof(*r));
}
