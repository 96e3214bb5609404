-- premake5.lua - perch's build description.
--
-- Keeps to the subset premake4 (Debian 12) and premake5 share: solution,
-- project, configuration, files, includedirs, links, buildoptions,
-- linkoptions.  The top-level Makefile generates from it with whichever
-- premake is installed and drives the configurations:
--   release  -O2, what `make` and `make demo` build      -> build/release
--   test     sanitizers, what `make test` runs          -> build/test
--   cross    like test, built with CC=aarch64-linux-gnu-gcc by `make
--            test-aarch64` and run under qemu-user       -> build/aarch64

local common_c = { "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror",
                   "-Wshadow", "-Wstrict-prototypes", "-Wmissing-prototypes",
                   "-fno-strict-aliasing", "-I/usr/include/lua5.4",
                   -- The generated makefiles live in build/make: map the
                   -- paths back to the source tree for __FILE__ and for the
                   -- assembler's .incbin of the embedded Lua modules.
                   "-fmacro-prefix-map=../../=", "-Wa,-I../.." }
local sanitize = { "-fsanitize=address,undefined", "-fno-omit-frame-pointer",
                   "-fno-sanitize-recover=all" }
local syslibs  = { "lua5.4", "ev", "lmdb", "sleef", "curl", "edit", "microhttpd", "turbojpeg", "cjson", "crypto", "m", "pthread", "dl" }

-- Settings every project shares: where objects and binaries go per
-- configuration, optimisation and sanitizers.
local function configure(kind_name)
  language "C"
  kind(kind_name)
  includedirs { "runtime", "lua", "kernels", "tests/unit", "tests/kernels", "bench" }
  buildoptions(common_c)
  -- premake4 strips binaries unless asked for symbols; keep them for gdb and
  -- sanitizer reports (bench/run measures the stripped size separately).
  if symbols then symbols "On" else flags { "Symbols" } end

  configuration "release"
    targetdir "build/release"
    objdir "build/obj"
    buildoptions { "-O2", "-g" }
    defines { "NDEBUG" }

  configuration "test"
    targetdir "build/test"
    objdir "build/obj"
    buildoptions { "-O1", "-g" }
    buildoptions(sanitize)
    linkoptions(sanitize)

  configuration "cross"
    targetdir "build/aarch64"
    objdir "build/obj"
    buildoptions { "-O1", "-g" }
    buildoptions(sanitize)
    linkoptions(sanitize)

  configuration {}
end

solution "perch"
  configurations { "release", "test", "cross" }
  location "build/make"

  -- The runtime and its Lua bindings as one static library, so the perch
  -- executable, unit tests and benchmarks link the same objects.
  project "perchcore"
    configure("StaticLib")
    -- Kernel variants select their ISA with #pragma GCC target inside the
    -- file (premake4 has no per-file flags), so all of them build here.
    files { "runtime/*.c", "lua/*.c", "kernels/**.c" }
    excludes { "runtime/main.c" }

  project "perch"
    configure("ConsoleApp")
    files { "runtime/main.c" }
    links { "perchcore" }
    links(syslibs)

  -- One executable per C unit test and per benchmark: each is a TAP
  -- producer (tests) or a figure reporter (bench) on its own.
  for _, dir in ipairs({ "tests/unit", "tests/kernels", "bench" }) do
    local prefix = dir == "bench" and "bench_" or "test_"
    for _, file in ipairs(os.matchfiles(dir .. "/" .. prefix .. "*.c")) do
      local name = path.getbasename(file)
      project(name)
        configure("ConsoleApp")
        files { file }
        links { "perchcore" }
        links(syslibs)
    end
  end
