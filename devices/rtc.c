/* rtc: the Motorola MC146818A real-time clock behind ports 0x70/0x71: time and
 * calendar from the host clock, alarm, periodic and update-ended interrupts
 * on IRQ 8, and the 128 bytes of CMOS RAM with the PC's memory-size bytes. */
#include "devices/rtc_int.h"

#include "devices/device.h"
#include "hypervisor/log.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

struct now rtc_read_clocks(const struct rtc *r)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t ns = (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
	if (r->localtime) {
		struct tm tm;
		time_t t = ts.tv_sec;
		if (localtime_r(&t, &tm))
			ns += (int64_t)tm.tm_gmtoff * NSEC;
	}
	return (struct now){.host_ns = ns, .mono = clock_ns()};
}

/* The running clock: its second, and how far into it (ns). */
static int64_t rtc_sec(const struct rtc *r, const struct now *now, int64_t *frac)
{
	int64_t f = floor_mod(now->host_ns, NSEC) + r->offset_frac;
	int64_t s = floor_div(now->host_ns, NSEC) + r->offset_s + (f >= NSEC);
	if (frac)
		*frac = f % NSEC;
	return s;
}

/* Sets the offset so that the clock reads second s and frac ns now. */
static void set_clock(struct rtc *r, const struct now *now, int64_t s, int64_t frac)
{
	int64_t hf = floor_mod(now->host_ns, NSEC);
	r->offset_frac = floor_mod(frac - hf, NSEC);
	r->offset_s = s - floor_div(now->host_ns, NSEC) - (hf + r->offset_frac >= NSEC);
}

/* ---- calendar arithmetic (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t days_from_civil(int64_t y, unsigned mon, unsigned mday)
{
	y -= mon <= 2;
	int64_t era = floor_div(y, 400);
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (mon > 2 ? mon - 3 : mon + 9) + 2) / 5 + mday - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

struct rtc_time {
	int64_t year;
	unsigned mon, mday, hour, min, sec, wday; /* wday: 0 = Sunday */
};

static struct rtc_time time_from_seconds(int64_t s)
{
	struct rtc_time t;
	int64_t days = floor_div(s, DAY_S);
	int64_t sod = s - days * DAY_S;
	t.hour = (unsigned)(sod / 3600);
	t.min = (unsigned)(sod / 60 % 60);
	t.sec = (unsigned)(sod % 60);
	t.wday = (unsigned)floor_mod(days + 4, 7); /* 1970-01-01 was a Thursday */
	int64_t z = days + 719468;
	int64_t era = floor_div(z, 146097);
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	t.mday = doy - (153 * mp + 2) / 5 + 1;
	t.mon = mp < 10 ? mp + 3 : mp - 9;
	t.year = (int64_t)yoe + era * 400 + (t.mon <= 2);
	return t;
}

/* ---- register formats ---- */

static uint8_t enc(const struct rtc *r, unsigned v)
{
	v %= 100;
	return (uint8_t)(r->cmos[REG_B] & B_DM ? v : (v / 10) << 4 | v % 10);
}

static unsigned dec(const struct rtc *r, uint8_t v)
{
	/* Guests may write anything; a bad BCD digit still gives a number. */
	return r->cmos[REG_B] & B_DM ? v : (unsigned)(v >> 4) * 10 + (v & 15);
}

static uint8_t enc_hour(const struct rtc *r, unsigned h)
{
	if (r->cmos[REG_B] & B_24H)
		return enc(r, h);
	unsigned h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(enc(r, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned dec_hour(const struct rtc *r, uint8_t v)
{
	if (r->cmos[REG_B] & B_24H)
		return dec(r, v);
	return dec(r, v & 0x7f) % 12 + (v & 0x80 ? 12 : 0);
}

static unsigned clampu(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The time registers (0-9 and the century) for RTC second s. */
static void time_to_regs(const struct rtc *r, int64_t s, uint8_t *regs)
{
	struct rtc_time t = time_from_seconds(s);
	int64_t year = t.year < 0 ? 0 : t.year;
	regs[REG_SEC] = enc(r, t.sec);
	regs[REG_MIN] = enc(r, t.min);
	regs[REG_HOUR] = enc_hour(r, t.hour);
	regs[REG_WDAY] = enc(r, (unsigned)((t.wday + (unsigned)r->wday_adjust) % 7 + 1));
	regs[REG_MDAY] = enc(r, t.mday);
	regs[REG_MON] = enc(r, t.mon);
	regs[REG_YEAR] = enc(r, (unsigned)(year % 100));
	regs[CMOS_CENTURY] = enc(r, (unsigned)(year / 100 % 100));
}

/* The RTC second the stopped registers hold; out-of-range fields are
 * clamped (a real chip would count on from them in its own odd ways). */
static int64_t regs_to_time(const struct rtc *r)
{
	const uint8_t *c = r->cmos;
	int64_t year = dec(r, c[CMOS_CENTURY]) * 100 + dec(r, c[REG_YEAR]);
	unsigned mon = clampu(dec(r, c[REG_MON]), 1, 12);
	unsigned mday = clampu(dec(r, c[REG_MDAY]), 1, 31);
	unsigned hour = clampu(dec_hour(r, c[REG_HOUR]), 0, 23);
	unsigned min = clampu(dec(r, c[REG_MIN]), 0, 59);
	unsigned sec = clampu(dec(r, c[REG_SEC]), 0, 59);
	return days_from_civil(year, mon, mday) * DAY_S + hour * 3600 + min * 60 + sec;
}

static bool is_time_reg(unsigned i)
{
	return i == REG_SEC || i == REG_MIN || i == REG_HOUR || (i >= REG_WDAY && i <= REG_YEAR) ||
	       i == CMOS_CENTURY;
}

/* ---- clock state ---- */

static bool divider_running(const struct rtc *r)
{
	return (r->cmos[REG_A] & A_DV_RESET) != A_DV_RESET;
}

/* Periodic ticks: the rate-select taps of the 32.768 kHz divider chain.
 * Returns the tick period in 1/32768 s units, 0 for none. */
static uint64_t pf_period(const struct rtc *r)
{
	unsigned rs = r->cmos[REG_A] & A_RS;
	if (!rs || !divider_running(r))
		return 0;
	if (rs <= 2)
		rs += 7; /* with a 32.768 kHz time base, 1 and 2 are 256 and 128 Hz */
	return 1ull << (rs - 1);
}

static uint64_t pf_ticks(uint64_t elapsed_ns, uint64_t period)
{
	uint64_t t32k = elapsed_ns / NSEC * 32768 + elapsed_ns % NSEC * 32768 / NSEC;
	return t32k / period;
}

/* Nanoseconds after the anchor at which tick n starts. */
static uint64_t pf_tick_ns(uint64_t n, uint64_t period)
{
	uint64_t t32k = n * period;
	return t32k / 32768 * NSEC + (t32k % 32768 * NSEC + 32767) / 32768;
}

static void freeze(struct rtc *r, const struct now *now)
{
	if (r->stopped)
		return;
	time_to_regs(r, rtc_sec(r, now, NULL), r->cmos);
	r->stopped = true;
	r->wday_written = false;
}

/* Starts the clock from the registers, keeping the divider's sub-second
 * phase (set when the divider left reset). */
static void thaw(struct rtc *r, const struct now *now)
{
	int64_t phase;
	rtc_sec(r, now, &phase);
	int64_t s = regs_to_time(r);
	set_clock(r, now, s, phase);
	r->synced_s = s;
	r->stopped = false;
	if (r->wday_written) {
		struct rtc_time t = time_from_seconds(s);
		unsigned w = dec(r, r->cmos[REG_WDAY]);
		r->wday_adjust = (int)((w + 6 - t.wday) % 7); /* w is 1-7, Sunday 1 */
		r->wday_written = false;
	}
}

static bool alarm_field(uint8_t alarm, uint8_t now)
{
	return (alarm & 0xc0) == 0xc0 || alarm == now; /* 0xc0-0xff: any value */
}

static bool alarm_at(const struct rtc *r, int64_t s)
{
	int64_t sod = floor_mod(s, DAY_S);
	return alarm_field(r->cmos[REG_ALARM_SEC], enc(r, (unsigned)(sod % 60))) &&
	       alarm_field(r->cmos[REG_ALARM_MIN], enc(r, (unsigned)(sod / 60 % 60))) &&
	       alarm_field(r->cmos[REG_ALARM_HOUR], enc_hour(r, (unsigned)(sod / 3600)));
}

static void update_irq(struct rtc *r)
{
	/* PF, AF and UF sit at the bit positions of PIE, AIE and UIE. */
	bool level = (r->cmos[REG_C] & r->cmos[REG_B] & (C_PF | C_AF | C_UF)) != 0;
	if (level != r->irq_level && !r->paused) {
		r->irq_level = level;
		irq_line_set(&r->line, level);
	}
}

/* Brings the flags in register C up to date: an update ended at every RTC
 * second boundary passed since the last call (UF, and AF where the alarm
 * matched), a periodic tick (PF). Then the IRQ line and the timers that will
 * raise it. Caller holds the lock. */
void rtc_sync(struct rtc *r, const struct now *now)
{
	if (!r->stopped) {
		int64_t s = rtc_sec(r, now, NULL);
		if (s > r->synced_s) {
			r->cmos[REG_C] |= C_UF;
			/* The alarm pattern repeats daily: a day covers any gap. */
			int64_t from = s - r->synced_s > DAY_S ? s - DAY_S : r->synced_s;
			for (int64_t t = from + 1; t <= s; t++) {
				if (alarm_at(r, t)) {
					r->cmos[REG_C] |= C_AF;
					break;
				}
			}
		}
		r->synced_s = s; /* also when the host clock stepped back */
	}
	uint64_t period = pf_period(r);
	if (period) {
		uint64_t n = pf_ticks(now->mono - r->pf_anchor, period);
		if (n > r->pf_count) {
			r->cmos[REG_C] |= C_PF;
			r->pf_count = n;
		}
	}
	update_irq(r);
	if (r->paused)
		return; /* the timers start again on resume */

	/* The update timer wakes at the next second while UF or AF would
	 * raise the line, the periodic one at the next tick while PF would.
	 * A flag already set changes nothing until the guest reads C, so a
	 * guest that ignores IRQ 8 costs no wake-ups. */
	uint8_t b = r->cmos[REG_B], c = r->cmos[REG_C];
	bool want_update = ((b & B_UIE) && !(c & C_UF)) || ((b & B_AIE) && !(c & C_AF));
	if (!r->stopped && want_update) {
		int64_t frac;
		int64_t next = rtc_sec(r, now, &frac) + 1;
		if (r->armed_update_s != next) {
			evtimer_arm(r->update_timer, (uint64_t)(NSEC - frac), 0);
			r->armed_update_s = next;
		}
	} else if (r->armed_update_s != NOT_ARMED) {
		evtimer_cancel(r->update_timer);
		r->armed_update_s = NOT_ARMED;
	}
	if (period && (b & B_PIE) && !(c & C_PF)) {
		uint64_t next = r->pf_count + 1;
		if (r->armed_pf != next) {
			uint64_t due = pf_tick_ns(next, period);
			uint64_t el = now->mono - r->pf_anchor;
			evtimer_arm(r->periodic_timer, due > el ? due - el : 1, 0);
			r->armed_pf = next;
		}
	} else if (r->armed_pf) {
		evtimer_cancel(r->periodic_timer);
		r->armed_pf = 0;
	}
}

static void timer_fired(void *opaque, bool periodic)
{
	struct rtc *r = opaque;
	pthread_mutex_lock(&r->lock);
	struct now now = rtc_read_clocks(r);
	if (periodic)
		r->armed_pf = 0; /* fired: arm again if still wanted */
	else
		r->armed_update_s = NOT_ARMED;
	rtc_sync(r, &now);
	pthread_mutex_unlock(&r->lock);
}

static void update_due(void *opaque)
{
	timer_fired(opaque, false);
}

static void periodic_due(void *opaque)
{
	timer_fired(opaque, true);
}

/* ---- register access (caller holds the lock and has synced) ---- */

static uint8_t reg_read(struct rtc *r, const struct now *now, unsigned i, bool guest)
{
	if (is_time_reg(i) && !r->stopped) {
		uint8_t regs[128];
		time_to_regs(r, rtc_sec(r, now, NULL), regs);
		return regs[i];
	}
	switch (i) {
	case REG_A: {
		int64_t frac;
		rtc_sec(r, now, &frac);
		bool uip = !r->stopped && frac >= NSEC - UIP_NS;
		return (uint8_t)(r->cmos[REG_A] | (uip ? A_UIP : 0));
	}
	case REG_C: {
		uint8_t v = r->cmos[REG_C];
		if (r->irq_level)
			v |= C_IRQF;
		if (guest) { /* reading C clears it and releases IRQ 8 */
			r->cmos[REG_C] = 0;
			update_irq(r);
		}
		return v;
	}
	case REG_D:
		return D_VRT; /* the battery is fine */
	default:
		return r->cmos[i];
	}
}

static void write_a(struct rtc *r, const struct now *now, uint8_t v)
{
	bool was = divider_running(r);
	bool is = (v & A_DV_RESET) != A_DV_RESET;
	uint8_t old_rs = r->cmos[REG_A] & A_RS;
	if (was && !is)
		freeze(r, now); /* the divider chain stops: so does the clock */
	r->cmos[REG_A] = v & (uint8_t)~A_UIP;
	if (!is)
		return;
	if (!was) {
		/* Out of reset: the first update comes half a second later. The
		 * offset only carries that phase until thaw sets the time. */
		set_clock(r, now, 0, NSEC / 2);
		if (!(r->cmos[REG_B] & B_SET))
			thaw(r, now);
	}
	if (!was || old_rs != (v & A_RS)) {
		r->pf_anchor = now->mono;
		r->pf_count = 0;
		r->armed_pf = 0;
		evtimer_cancel(r->periodic_timer);
	}
}

static void write_b(struct rtc *r, const struct now *now, uint8_t v)
{
	uint8_t old = r->cmos[REG_B];
	if ((v & B_SET) && !(old & B_SET)) {
		v &= (uint8_t)~B_UIE; /* SET going high clears UIE */
		freeze(r, now);	      /* in the old format, as the chip holds it */
	}
	r->cmos[REG_B] = v;
	if (!(v & B_SET) && (old & B_SET) && divider_running(r))
		thaw(r, now);
}

static void reg_write(struct rtc *r, const struct now *now, unsigned i, uint8_t v)
{
	if (is_time_reg(i)) {
		bool run = !r->stopped;
		freeze(r, now);
		r->cmos[i] = v;
		if (i == REG_WDAY)
			r->wday_written = true;
		if (run)
			thaw(r, now); /* a running clock counts on from the new value */
		return;
	}
	switch (i) {
	case REG_A:
		write_a(r, now, v);
		break;
	case REG_B:
		write_b(r, now, v);
		break;
	case REG_C: /* read-only */
	case REG_D:
		break;
	default:
		r->cmos[i] = v;
		break;
	}
}

/* ---- ports ---- */

static uint64_t port_read(void *opaque, uint64_t offset, unsigned size)
{
	struct rtc *r = opaque;
	if (offset == 0)
		return 0xff; /* the index port is write-only */
	pthread_mutex_lock(&r->lock);
	struct now now = rtc_read_clocks(r);
	rtc_sync(r, &now);
	uint8_t v = reg_read(r, &now, r->index, true);
	rtc_sync(r, &now);
	pthread_mutex_unlock(&r->lock);
	return v;
}

static void port_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct rtc *r = opaque;
	pthread_mutex_lock(&r->lock);
	if (offset == 0) {
		r->index = value & 0x7f;
		r->nmi_masked = value & 0x80;
	} else {
		struct now now = rtc_read_clocks(r);
		rtc_sync(r, &now);
		reg_write(r, &now, r->index, (uint8_t)value);
		rtc_sync(r, &now);
	}
	pthread_mutex_unlock(&r->lock);
}

static const struct bus_ops rtc_ops = {.read = port_read, .write = port_write};

/* ---- API ---- */

bool rtc_nmi_masked(void *rtc)
{
	struct rtc *r = rtc;
	pthread_mutex_lock(&r->lock);
	bool v = r->nmi_masked;
	pthread_mutex_unlock(&r->lock);
	return v;
}

static void update_checksum(struct rtc *r)
{
	unsigned sum = 0;
	for (unsigned i = CMOS_FLOPPY; i < CMOS_CHECKSUM; i++)
		sum += r->cmos[i];
	r->cmos[CMOS_CHECKSUM] = (uint8_t)(sum >> 8);
	r->cmos[CMOS_CHECKSUM + 1] = (uint8_t)sum;
}

void rtc_set_cmos(void *rtc, uint8_t index, uint8_t value)
{
	struct rtc *r = rtc;
	if (index >= sizeof(r->cmos))
		return;
	pthread_mutex_lock(&r->lock);
	struct now now = rtc_read_clocks(r);
	rtc_sync(r, &now);
	reg_write(r, &now, index, value);
	if (index >= CMOS_FLOPPY && index < CMOS_CHECKSUM)
		update_checksum(r);
	rtc_sync(r, &now);
	pthread_mutex_unlock(&r->lock);
}

uint8_t rtc_get_cmos(void *rtc, uint8_t index)
{
	struct rtc *r = rtc;
	if (index >= sizeof(r->cmos))
		return 0xff;
	pthread_mutex_lock(&r->lock);
	struct now now = rtc_read_clocks(r);
	rtc_sync(r, &now);
	uint8_t v = reg_read(r, &now, index, false);
	pthread_mutex_unlock(&r->lock);
	return v;
}

/* ---- device model ---- */

static void put16(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* What SeaBIOS and older guests read about the machine (QEMU's layout). */
static void setup_nvram(struct rtc *r)
{
	uint8_t *c = r->cmos;
	uint64_t below = r->m->ram_below_4g, above = r->m->ram_above_4g;
	c[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
	c[REG_B] = B_24H;
	c[CMOS_SHUTDOWN] = 0;
	c[CMOS_FLOPPY] = 0;		 /* no floppy drives */
	c[CMOS_EQUIPMENT] = 0x02 | 0x04; /* FPU, PS/2 mouse; EGA/VGA; no floppies */
	put16(&c[CMOS_BASE_MEM], 640);
	uint64_t ext = below > MiB ? (below - MiB) / KiB : 0;
	put16(&c[CMOS_EXT_MEM], ext > 0xffff ? 0xffff : ext);
	put16(&c[CMOS_EXT_MEM2], ext > 0xffff ? 0xffff : ext);
	uint64_t mid = below > 16 * MiB ? (below - 16 * MiB) / (64 * KiB) : 0;
	put16(&c[CMOS_MEM_16M], mid > 0xffff ? 0xffff : mid);
	uint64_t high = above / (64 * KiB);
	if (high > 0xffffff)
		high = 0xffffff;
	c[CMOS_MEM_HIGH] = (uint8_t)high;
	c[CMOS_MEM_HIGH + 1] = (uint8_t)(high >> 8);
	c[CMOS_MEM_HIGH + 2] = (uint8_t)(high >> 16);
	c[CMOS_CPUS] = (uint8_t)(r->m->cpus ? r->m->cpus - 1 : 0);
	update_checksum(r);
}

static int parse_args(struct rtc *r, const struct devargs *args)
{
	static const char *const known[] = {"base", "irq", "clock", NULL};
	int ret = devargs_check_keys(args, "rtc", known);
	if (ret < 0)
		return ret;
	uint64_t v;
	if (devargs_u64(args, "base", PORT_RTC, 0xfffe, &v) < 0) {
		log_error("rtc: base=%s: expected an I/O port number from 0 to 0xfffe",
			  devargs_get(args, "base"));
		return -EINVAL;
	}
	r->base = (uint16_t)v;
	if (devargs_u64(args, "irq", IRQ_RTC, IOAPIC_PINS - 1, &v) < 0) {
		log_error("rtc: irq=%s: expected an interrupt line from 0 to %d",
			  devargs_get(args, "irq"), IOAPIC_PINS - 1);
		return -EINVAL;
	}
	r->irq = (unsigned)v;
	const char *clock = devargs_get(args, "clock");
	if (!clock || strcmp(clock, "utc") == 0) {
		r->localtime = false;
	} else if (strcmp(clock, "localtime") == 0) {
		r->localtime = true;
	} else {
		log_error("rtc: clock=%s: expected utc or localtime", clock);
		return -EINVAL;
	}
	return 0;
}

static int rtc_create(struct machine *m, const char *id, const struct devargs *args, void **state)
{
	struct rtc *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->m = m;
	int ret = parse_args(r, args);
	if (ret < 0)
		goto err_free;
	if ((ret = machine_irq_line(m, r->irq, &r->line)) < 0) {
		log_error("rtc: cannot connect to IRQ %u", r->irq);
		goto err_free;
	}
	pthread_mutex_init(&r->lock, NULL);
	ret = -ENOMEM;
	r->update_timer = evtimer_new(m->loop, update_due, r);
	r->periodic_timer = evtimer_new(m->loop, periodic_due, r);
	if (!r->update_timer || !r->periodic_timer) {
		log_error("rtc: cannot create its timers");
		goto err_timers;
	}
	setup_nvram(r);
	struct now now = rtc_read_clocks(r);
	r->synced_s = rtc_sec(r, &now, NULL);
	r->pf_anchor = now.mono;
	r->armed_update_s = NOT_ARMED;
	ret = bus_register(m->pio, r->base, 2, &rtc_ops, r, "rtc");
	if (ret < 0) {
		log_error("rtc: cannot claim ports 0x%x-0x%x: %s", r->base, r->base + 1,
			  strerror(-ret));
		goto err_timers;
	}
	*state = r;
	return 0;

err_timers:
	evtimer_free(r->update_timer);
	evtimer_free(r->periodic_timer);
	pthread_mutex_destroy(&r->lock);
err_free:
	irq_line_release(&r->line);
	free(r);
	return ret;
}

/* The RESET pin: interrupt enables and flags go, the clock, the data format
 * and the RAM stay (they are battery-backed). */
static void rtc_reset(void *state)
{
	struct rtc *r = state;
	pthread_mutex_lock(&r->lock);
	struct now now = rtc_read_clocks(r);
	rtc_sync(r, &now);
	r->cmos[REG_B] &= (uint8_t) ~(B_PIE | B_AIE | B_UIE | B_SQWE);
	r->cmos[REG_C] = 0;
	r->nmi_masked = false;
	rtc_sync(r, &now);
	pthread_mutex_unlock(&r->lock);
}

static void rtc_destroy(void *state)
{
	struct rtc *r = state;
	bus_unregister(r->m->pio, r->base, r);
	evtimer_free(r->update_timer);
	evtimer_free(r->periodic_timer);
	irq_line_release(&r->line);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static const struct device_model rtc_model = {
    .name = "rtc",
    .description = "MC146818A CMOS clock and RAM (base=0x70, irq=8, clock=utc|localtime)",
    .create = rtc_create,
    .reset = rtc_reset,
    .destroy = rtc_destroy,
    .state_version = 1,
    .save = rtc_save,
    .load = rtc_load,
    .pause = rtc_pause,
};
DEVICE_MODEL(rtc_model);
