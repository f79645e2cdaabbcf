// A bench row, and the median ratio with its spread over runs measured in the same run, interleaved.
export interface Row { part: string, measure: string, baseline: string, subject: string, ratio: string, spread: string, target: string }

export function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

export function ratioRow (part: string, measure: string, unit: string, baseline: number[], subject: number[], target: string, digits = 1): Row {
  const ratios = subject.map((value, index) => value / baseline[index]!)
  return {
    part,
    measure,
    baseline: `${median(baseline).toFixed(digits)} ${unit}`,
    subject: `${median(subject).toFixed(digits)} ${unit}`,
    ratio: median(ratios).toFixed(3),
    spread: `${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}`,
    target
  }
}
