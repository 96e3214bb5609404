-- policies/frames_routing.lua - the default routing rules for the camera's
-- frame uploads (scripts/camera.lua with sink=upstream:URL, through
-- perch.upload).  First match wins; the last rule is the default.  A rule
-- sees each frame's metadata as `json` (seq, time, motion, quality, width,
-- height, upstream_allowed: the actuator the power and thermal policies
-- vote on), the live sensor inputs (battery_below, on_ac) and the upload
-- health (link_below / link_above, 0..1).  Targets: `upstream:main` (the
-- sink's URL), `local:keep` (the frame goes to upload.fallback_dir, or is
-- dropped when there is none) and `reject` (dropped, counted).  Tune or
-- replace with --set upload.rules=MODULE_OR_FILE; mistakes stop the app at
-- start, naming the rule and the key.
return {
  { name = "upstream-off", match = { json = { upstream_allowed = false } }, target = "local:keep",
    doc = "a policy said no radio (power critical, thermal emergency): keep the frame on the device" },
  { name = "default", target = "upstream:main",
    doc = "everything else is uploaded through the sink's retry policy" },
}
