-- wrk script for bench/scan.sh: POSTs SyncUpdates bodies from the files
-- in BENCH_BODIES (a directory of files named 000000, 000001, ...),
-- round robin. done() comes from wrk.lua (BENCH_WRK_LUA): the same
-- machine-readable BENCH line.

dofile(assert(os.getenv("BENCH_WRK_LUA")))

local dir = assert(os.getenv("BENCH_BODIES"))
local bodies = {}
local next_i = 1
local path = "/ClientWebService/client.asmx"
-- As the Windows Update Agent sends them (captures scan/000001): with
-- Accept-Encoding: xpress, so answers are compressed as real ones are.
local headers = {
	["Content-Type"] = "text/xml; charset=utf-8",
	["Accept-Encoding"] = "xpress",
	["User-Agent"] = "Windows-Update-Agent/1507.2601.30012.0 " ..
	    "Client-Protocol/2.90",
	["SOAPAction"] = '"http://www.microsoft.com/SoftwareDistribution/' ..
	    'Server/ClientWebService/SyncUpdates"',
}

function init(args)
	local i = 0
	while true do
		local f = io.open(string.format("%s/%06d", dir, i), "rb")
		if f == nil then break end
		bodies[#bodies + 1] = wrk.format("POST", path, headers,
		    f:read("*a"))
		f:close()
		i = i + 1
	end
	assert(#bodies > 0, "no bodies in " .. dir)
	-- Threads start at different places in the list.
	next_i = (math.random(#bodies) - 1) % #bodies + 1
end

function request()
	local r = bodies[next_i]
	next_i = next_i % #bodies + 1
	return r
end
