/* The report page's template, style sheet and script, compiled in from src/renderers/report_assets/
 * by embed.py at build time (the page needs nothing at run time and fetches nothing). */
#pragma once

#include <stddef.h>

extern const char gsm_report_asset_report_html[];
extern const size_t gsm_report_asset_report_html_len;
extern const char gsm_report_asset_report_css[];
extern const size_t gsm_report_asset_report_css_len;
extern const char gsm_report_asset_report_js[];
extern const size_t gsm_report_asset_report_js_len;
extern const char gsm_report_asset_report_svg_js[];
extern const size_t gsm_report_asset_report_svg_js_len;
