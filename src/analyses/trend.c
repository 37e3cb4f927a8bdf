#include "analyses/trend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define MAX_TS_POINTS 64   /* 2,016 pairs: microseconds per target per tick */

bool gsm_theil_sen(const struct gsm_point *points, size_t n, uint64_t window_ms, size_t min_points,
                   uint64_t min_span_ms, struct gsm_trend *ret) {
    if (n == 0)
        return false;
    uint64_t end = points[n - 1].t_ms;
    size_t first = n;
    while (first > 0 && end - points[first - 1].t_ms <= window_ms && n - (first - 1) <= MAX_TS_POINTS)
        first--;
    size_t m = n - first;
    if (m < 2 || m < min_points || end - points[first].t_ms < min_span_ms)
        return false;
    double slopes[MAX_TS_POINTS * (MAX_TS_POINTS - 1) / 2];
    size_t k = 0, positive = 0;
    for (size_t i = first; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            uint64_t dt = points[j].t_ms - points[i].t_ms;
            if (dt == 0)
                continue;
            double s = (points[j].v - points[i].v) * 1000.0 / (double)dt;
            slopes[k++] = s;
            positive += s > 0;
        }
    if (k == 0)
        return false;
    size_t steps = 0, rising = 0;
    for (size_t i = first + 1; i < n; i++)
        if (points[i].v != points[i - 1].v) {
            steps++;
            rising += points[i].v > points[i - 1].v;
        }
    ret->step_positive_fraction = steps ? (double)rising / (double)steps : 0;
    qsort(slopes, k, sizeof *slopes, cmp_double);
    ret->slope_per_s = k % 2 ? slopes[k / 2] : (slopes[k / 2 - 1] + slopes[k / 2]) / 2;
    ret->positive_fraction = (double)positive / (double)k;
    ret->n_points = m;
    ret->span_ms = end - points[first].t_ms;
    return true;
}

double gsm_step_positive_fraction(const struct gsm_point *points, size_t n, uint64_t window_ms) {
    if (n < 2)
        return 0;
    uint64_t end = points[n - 1].t_ms;
    size_t steps = 0, rising = 0;
    for (size_t i = n - 1; i > 0 && end - points[i - 1].t_ms <= window_ms && n - i < MAX_TS_POINTS; i--)
        if (points[i].v != points[i - 1].v) {
            steps++;
            rising += points[i].v > points[i - 1].v;
        }
    return steps ? (double)rising / (double)steps : 0;
}

double gsm_eta_seconds(double current, double limit, double slope_per_s) {
    if (slope_per_s <= 0)
        return INFINITY;
    if (current >= limit)
        return 0;
    return (limit - current) / slope_per_s;
}

void gsm_welford_add(struct gsm_welford *w, double x) {
    w->n++;
    double d = x - w->mean;
    w->mean += d / (double)w->n;
    w->m2 += d * (x - w->mean);
}

double gsm_welford_sd(const struct gsm_welford *w) {
    return w->n > 1 ? sqrt(w->m2 / (double)(w->n - 1)) : 0;
}

bool gsm_growth_zscore(const struct gsm_point *points, size_t n, uint64_t baseline_ms, size_t min_points,
                       double sd_floor, double *ret_z, double *ret_rate) {
    if (n < 3)
        return false;
    const struct gsm_point *a = &points[n - 2], *b = &points[n - 1];
    if (b->t_ms <= a->t_ms)
        return false;
    double rate = (b->v - a->v) * 1000.0 / (double)(b->t_ms - a->t_ms);
    struct gsm_welford w = {0};
    for (size_t i = n - 2; i > 0; i--) {
        const struct gsm_point *p = &points[i - 1], *q = &points[i];
        if (a->t_ms - p->t_ms > baseline_ms)
            break;
        if (q->t_ms > p->t_ms)
            gsm_welford_add(&w, (q->v - p->v) * 1000.0 / (double)(q->t_ms - p->t_ms));
    }
    if (w.n < min_points)
        return false;
    double sd = gsm_welford_sd(&w);
    if (sd < sd_floor)
        sd = sd_floor;
    *ret_z = (rate - w.mean) / sd;
    *ret_rate = rate;
    return true;
}
