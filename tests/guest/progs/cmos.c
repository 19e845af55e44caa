/* cmos: the MC146818A RTC and the CMOS memory-size bytes: the date and time
 * against now= (Unix time from the runner), BCD and binary modes (register
 * B), an update cycle seen through UIP, VRT, and the memory bytes the PC
 * convention (QEMU, SeaBIOS) derives from mem=. */
#include "../lib/cmdline.h"
#include "../lib/cmos.h"
#include "../lib/div64.h"
#include "../lib/io.h"
#include "../lib/memsize.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"

struct rtc_time {
	u32 year, month, day, hour, minute, second;
};

static u8 from_bcd(u8 v)
{
	return (v >> 4) * 10 + (v & 0x0f);
}

static u8 to_bcd(u8 v)
{
	return (u8)(((v / 10) << 4) | (v % 10));
}

static u8 decode(u8 v, u8 reg_b)
{
	return (reg_b & REG_B_DM_BINARY) ? v : from_bcd(v);
}

static u8 encode(u8 v, u8 reg_b)
{
	return (reg_b & REG_B_DM_BINARY) ? v : to_bcd(v);
}

/* Hours in 12-hour mode: 1-12 with bit 7 = PM. */
static u8 decode_hour(u8 v, u8 reg_b)
{
	u8 h;

	if (reg_b & REG_B_24H)
		return decode(v, reg_b);
	h = decode(v & 0x7f, reg_b) % 12;
	return (v & 0x80) ? h + 12 : h;
}

static u8 encode_hour(u8 h, u8 reg_b)
{
	u8 h12;

	if (reg_b & REG_B_24H)
		return encode(h, reg_b);
	h12 = h % 12 ? h % 12 : 12;
	return encode(h12, reg_b) | (h >= 12 ? 0x80 : 0);
}

static bool wait_not_updating(void)
{
	struct timeout t;

	timeout_start(&t, 1000);
	while (cmos_read(RTC_REG_A) & REG_A_UIP)
		if (timeout_expired(&t))
			return false;
	return true;
}

static void read_raw(u8 raw[6])
{
	static const u8 regs[6] = {RTC_YEAR,  RTC_MONTH,   RTC_DAY,
				   RTC_HOURS, RTC_MINUTES, RTC_SECONDS};

	for (int i = 0; i < 6; i++)
		raw[i] = cmos_read(regs[i]);
}

/* Reads the clock outside an update cycle: twice, until both agree. */
static bool read_time(struct rtc_time *t, u8 reg_b)
{
	u8 a[6], b[6];
	int tries = 0;

	do {
		if (!wait_not_updating())
			return false;
		read_raw(a);
		read_raw(b);
	} while (__builtin_memcmp(a, b, 6) != 0 && ++tries < 5);
	if (tries == 5)
		return false;
	/* The century byte (the PC/ACPI convention) follows B.DM like the
	 * other registers, as Linux and QEMU treat it. */
	t->year = decode(cmos_read(RTC_CENTURY), reg_b) * 100 + decode(a[0], reg_b);
	t->month = decode(a[1], reg_b);
	t->day = decode(a[2], reg_b);
	t->hour = decode_hour(a[3], reg_b);
	t->minute = decode(a[4], reg_b);
	t->second = decode(a[5], reg_b);
	return true;
}

/* Sets the clock the way the MC146818A datasheet says: SET frozen, the
 * registers written in the format of the new register B, SET cleared. */
static void set_time(const struct rtc_time *t, u8 reg_b)
{
	cmos_write(RTC_REG_B, reg_b | REG_B_SET);
	cmos_write(RTC_SECONDS, encode(t->second, reg_b));
	cmos_write(RTC_MINUTES, encode(t->minute, reg_b));
	cmos_write(RTC_HOURS, encode_hour(t->hour, reg_b));
	cmos_write(RTC_DAY, encode(t->day, reg_b));
	cmos_write(RTC_MONTH, encode(t->month, reg_b));
	cmos_write(RTC_YEAR, encode(t->year % 100, reg_b));
	cmos_write(RTC_CENTURY, encode(t->year / 100, reg_b));
	cmos_write(RTC_REG_B, reg_b & ~REG_B_SET);
}

static bool leap(u32 y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static u32 days_in_month(u32 y, u32 m)
{
	static const u8 days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

static bool plausible(const struct rtc_time *t)
{
	return t->year >= 2020 && t->year <= 2099 && t->month >= 1 && t->month <= 12 &&
	       t->day >= 1 && t->day <= days_in_month(t->year, t->month) && t->hour < 24 &&
	       t->minute < 60 && t->second < 60;
}

/* Seconds since 1970-01-01 00:00 UTC (the date must be plausible()). */
static u64 unix_time(const struct rtc_time *t)
{
	u64 days = 0;

	for (u32 y = 1970; y < t->year; y++)
		days += leap(y) ? 366 : 365;
	for (u32 m = 1; m < t->month; m++)
		days += days_in_month(t->year, m);
	days += t->day - 1;
	return days * 86400 + t->hour * 3600 + t->minute * 60 + t->second;
}

static s64 distance(u64 a, u64 b)
{
	return a > b ? (s64)(a - b) : -(s64)(b - a);
}

static void clock_checks(u64 now)
{
	u8 reg_a = cmos_read(RTC_REG_A), reg_b = cmos_read(RTC_REG_B);
	u8 reg_d = cmos_read(RTC_REG_D);
	struct rtc_time t, t2;
	bool ok;
	s64 off;

	printf("peer: register A 0x%02x, B 0x%02x (%s, %s)\n", reg_a, reg_b,
	       reg_b & REG_B_DM_BINARY ? "binary" : "BCD",
	       reg_b & REG_B_24H ? "24-hour" : "12-hour");
	check(reg_d & REG_D_VRT, "register D: VRT (valid RAM and time) is set");
	check(!(reg_b & REG_B_SET), "register B: SET is clear, the clock runs");

	ok = read_time(&t, reg_b);
	if (!check(ok && plausible(&t), "the date and time read in %s mode are plausible",
		   reg_b & REG_B_DM_BINARY ? "binary" : "BCD"))
		return;
	off = distance(unix_time(&t), now);
	printf("peer: RTC %04u-%02u-%02u %02u:%02u:%02u, %lld s from now=\n", t.year, t.month,
	       t.day, t.hour, t.minute, t.second, off);
	check(off >= -120 && off <= 120, "the RTC is within 2 minutes of now= (UTC)");

	/* The other data mode, as the datasheet says to switch: SET, write
	 * the time in the new format, clear SET. */
	set_time(&t, reg_b ^ REG_B_DM_BINARY);
	ok = read_time(&t2, reg_b ^ REG_B_DM_BINARY) && plausible(&t2);
	off = ok ? distance(unix_time(&t2), unix_time(&t)) : 9999;
	check(ok && off >= 0 && off <= 3, "after switching B.DM to %s the clock reads back as set",
	      reg_b & REG_B_DM_BINARY ? "BCD" : "binary");
	if (ok) {
		set_time(&t2, reg_b);
		ok = read_time(&t, reg_b) && plausible(&t);
		off = ok ? distance(unix_time(&t), unix_time(&t2)) : 9999;
		check(ok && off >= 0 && off <= 3, "back in %s mode the clock still reads right",
		      reg_b & REG_B_DM_BINARY ? "binary" : "BCD");
	}
	cmos_write(RTC_REG_B, reg_b);
}

static void update_cycle(void)
{
	struct timeout t;
	u8 before, after;
	bool rose = false, fell = false;

	/* UIP rises 244 us before each once-a-second update and falls when it
	 * is done; a busy host may make a poll miss a window now and then, so
	 * wait up to 10 s for a rise. */
	before = cmos_read(RTC_SECONDS);
	timeout_start(&t, 10000);
	while (!timeout_expired(&t)) {
		if (cmos_read(RTC_REG_A) & REG_A_UIP) {
			rose = true;
			break;
		}
		before = cmos_read(RTC_SECONDS);
	}
	timeout_start(&t, 1000);
	while (rose && !timeout_expired(&t)) {
		if (!(cmos_read(RTC_REG_A) & REG_A_UIP)) {
			fell = true;
			break;
		}
	}
	after = cmos_read(RTC_SECONDS);
	printf("peer: UIP %s, %s; seconds 0x%02x then 0x%02x\n", rose ? "rose" : "never rose",
	       fell ? "fell" : "did not fall", before, after);
	check(rose && fell, "register A: UIP rose and fell (an update cycle)");
	check(fell && after != before, "the seconds register advanced across the update");
}

static u32 cmos16(u8 lo)
{
	return cmos_read(lo) | (u32)cmos_read(lo + 1) << 8;
}

static u32 min_u32(u64 a, u32 b)
{
	return a < b ? (u32)a : b;
}

static void memory_bytes(u64 mem)
{
	u64 low = ram_below_4g(mem), high = ram_above_4g(mem);
	u32 base = cmos16(0x15), ext = cmos16(0x17), ext2 = cmos16(0x30);
	u32 above16 = cmos16(0x34);
	u32 above4g = cmos16(0x5b) | (u32)cmos_read(0x5d) << 16;
	u32 want_ext = low > MiB ? min_u32((low - MiB) / KiB, 0xffff) : 0;
	u32 want16 = low > 16 * MiB ? min_u32((low - 16 * MiB) / (64 * KiB), 0xffff) : 0;
	u32 want4g = (u32)(high / (64 * KiB));

	printf("CMOS 0x15-0x16 base memory: %u KiB\n", base);
	printf("CMOS 0x17-0x18 extended memory: %u KiB\n", ext);
	printf("CMOS 0x30-0x31 extended memory: %u KiB\n", ext2);
	printf("CMOS 0x34-0x35 memory above 16 MiB: %u x 64 KiB\n", above16);
	printf("CMOS 0x5b-0x5d memory above 4 GiB: %u x 64 KiB\n", above4g);
	check(base == 640, "base memory is 640 KiB");
	check(ext == want_ext && ext2 == want_ext,
	      "extended memory (KiB above 1 MiB, at most 65535) is %u in both places", want_ext);
	check(above16 == want16, "memory above 16 MiB below 4 GiB is %u x 64 KiB", want16);
	check(above4g == want4g, "memory above 4 GiB is %u x 64 KiB", want4g);
}

void test_main(void)
{
	u64 now, mem;
	bool have_now = arg_u64("now", &now), have_mem = arg_size("mem", &mem);

	printf("cmos: RTC and CMOS memory bytes\n");
	check(have_now, "now= (Unix time) was given");
	check(have_mem, "mem= was given");
	update_cycle();
	if (have_now)
		clock_checks(now);
	if (have_mem)
		memory_bytes(mem);
}
