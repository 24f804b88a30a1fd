-- A loop summing 0 .. 10^7-1 in a function. Prints 49999995000000.
local function main()
  local total = 0
  for i = 0, 10000000 - 1 do total = total + i end
  return total
end
print(main())
