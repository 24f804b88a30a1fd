-- Build a list of 10^6 items by appending. Prints "1000000 999999".
local function main()
  local xs = {}
  for i = 0, 1000000 - 1 do xs[#xs + 1] = i end
  return #xs .. " " .. xs[#xs]
end
print(main())
