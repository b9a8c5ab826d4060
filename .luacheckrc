std = "max"
max_line_length = 140
files["spec"] = { std = "+busted" }
exclude_files = { "build", "build-asan" }
globals = { "ngx" }
-- generated operation tables (tools/gen_services.py): one operation a line
files["lua/laws/services"] = { max_line_length = false }
