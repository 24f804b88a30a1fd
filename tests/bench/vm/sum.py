# A loop summing 0 .. 10^7-1 in a function. Prints 49999995000000.
def main():
    total = 0
    for i in range(10000000):
        total += i
    return total
print(main())
