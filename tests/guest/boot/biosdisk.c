/* int 13h disk calls through bioscall(); the disk address packet and the parameter table live
 * in the bounce area's last paragraphs so that the BIOS can reach them. */
#include "biosdisk.h"
#include "bios.h"
#include "../lib/str.h"

/* Scratch structures for the BIOS, below 1 MiB, after the transfer buffer. */
#define SCRATCH (LOW_BUF + LOW_BUF_SIZE - 256)

struct dap {
	u8 size, zero;
	u16 count;
	u16 off, seg;
	u64 lba;
} __attribute__((packed));

bool bios_ext_present(u8 drive, u16 *subsets, u8 *version)
{
	struct bregs r = {.eax = 0x4100, .ebx = 0x55aa, .edx = drive};

	bioscall(0x13, &r);
	if ((r.eflags & BREGS_CF) || (r.ebx & 0xffff) != 0xaa55)
		return false;
	*subsets = (u16)r.ecx;
	*version = (u8)(r.eax >> 8);
	return true;
}

u8 bios_drive_params(u8 drive, struct bios_drive_params *p)
{
	struct bios_drive_params *low = (struct bios_drive_params *)SCRATCH;
	struct bregs r = {.eax = 0x4800, .edx = drive};

	memset(low, 0, 64);
	low->size = 0x1e;
	r.ds = rm_seg(SCRATCH);
	r.esi = rm_off(SCRATCH);
	bioscall(0x13, &r);
	memcpy(p, low, sizeof(*p));
	return (r.eflags & BREGS_CF) ? (u8)((r.eax >> 8) ? r.eax >> 8 : 0xff) : 0;
}

u8 bios_ext_read(u8 drive, u64 lba, u16 count, u32 buf, u16 *done)
{
	struct dap *d = (struct dap *)SCRATCH;
	struct bregs r = {.eax = 0x4200, .edx = drive};

	*d = (struct dap){
	    .size = sizeof(*d), .count = count, .off = rm_off(buf), .seg = rm_seg(buf), .lba = lba};
	r.ds = rm_seg(SCRATCH);
	r.esi = rm_off(SCRATCH);
	bioscall(0x13, &r);
	*done = d->count;
	return (r.eflags & BREGS_CF) ? (u8)((r.eax >> 8) ? r.eax >> 8 : 0xff) : 0;
}

u8 bios_geometry(u8 drive, u32 *cyls, u32 *heads, u32 *spt)
{
	struct bregs r = {.eax = 0x0800, .edx = drive};

	bioscall(0x13, &r);
	if (r.eflags & BREGS_CF)
		return (u8)((r.eax >> 8) ? r.eax >> 8 : 0xff);
	/* CH = cylinder bits 0-7, CL bits 6-7 = cylinder bits 8-9, CL bits 0-5 = sectors. */
	*cyls = (((r.ecx >> 8) & 0xff) | (r.ecx & 0xc0) << 2) + 1;
	*spt = r.ecx & 0x3f;
	*heads = ((r.edx >> 8) & 0xff) + 1;
	return 0;
}

u8 bios_chs_read(u8 drive, u32 cyl, u32 head, u32 sector, u8 count, u32 buf, u8 *done)
{
	struct bregs r = {.eax = 0x0200u | count,
			  .ecx = (cyl & 0xff) << 8 | (cyl >> 2 & 0xc0) | (sector & 0x3f),
			  .edx = (head & 0xff) << 8 | drive,
			  .ebx = rm_off(buf),
			  .es = rm_seg(buf)};

	bioscall(0x13, &r);
	*done = (u8)r.eax;
	return (r.eflags & BREGS_CF) ? (u8)((r.eax >> 8) ? r.eax >> 8 : 0xff) : 0;
}
